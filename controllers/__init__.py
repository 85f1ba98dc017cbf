from . import portal_arrangement
from . import portal_promise
from . import portal_plan
