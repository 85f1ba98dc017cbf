from . import cxml
from . import periods
from . import structured_ref
from . import locking
