"""Raw-format readers; each returns a :class:`skelssl.data.sequence.RawDataset`."""
