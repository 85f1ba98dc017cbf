from . import dunning_level
