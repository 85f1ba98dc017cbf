from . import test_dunning_level
