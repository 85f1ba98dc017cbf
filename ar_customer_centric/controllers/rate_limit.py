import collections
import threading
import time

# Distinct (bucket, client address) keys kept per worker process. Beyond it the idle keys are
# dropped first, then the least recently seen: the memory stays bounded whatever the traffic.
MAX_KEYS = 10000


class _Throttle:
    """Sliding-window request counter per client address and bucket (per worker process).

    Guest endpoints (pay-all link, guest disputes, document downloads by token) are rate limited so
    that tokens cannot be brute-forced and the pages cannot be used to load the database.
    The client address is the one Odoo sees: behind a reverse proxy, start Odoo with
    ``--proxy-mode`` (and let the proxy set X-Forwarded-For), or every guest shares the proxy's
    address and one limit.
    """

    def __init__(self, max_keys=MAX_KEYS):
        self.max_keys = max_keys
        self._hits = collections.OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key, limit, window=60.0):
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = collections.deque()
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > self.max_keys:
                self._forget(now - window)
            return True

    def _forget(self, horizon):
        """Drop the keys without a hit in the window, then the least recently seen ones."""
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= horizon]:
            del self._hits[key]
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)

    def __len__(self):
        return len(self._hits)

    def reset(self):
        with self._lock:
            self._hits.clear()


THROTTLE = _Throttle()
