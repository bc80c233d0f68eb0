"""The generator's defaults, light enough for the command line's parser to import."""

SCALES = ("demo", "province", "national")
DEFAULT_PROVINCE = "20"  # Lạng Sơn
DEFAULT_SEED = 20250701
