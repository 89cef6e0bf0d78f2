"""Address gazetteer (地名地址库): door plates and buildings resolved to points."""
