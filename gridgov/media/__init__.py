"""Photos (照片): content checks, storage and the upload/serve API."""
