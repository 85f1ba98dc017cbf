from . import dunning_level
from . import locking
