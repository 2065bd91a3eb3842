from shared import config  # Works everywhere
