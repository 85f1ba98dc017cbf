from . import portal_promise
