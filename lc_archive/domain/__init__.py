"""The domain vocabulary: the one bottom layer every other layer imports."""
