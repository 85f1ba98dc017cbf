import collections
import threading
import time


class _Throttle:
    """Sliding-window request counter per client address and bucket (per worker process).

    Guest endpoints (pay-all link, guest disputes, document downloads by token) are rate limited so
    that tokens cannot be brute-forced and the pages cannot be used to load the database.
    """

    def __init__(self):
        self._hits = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def hit(self, key, limit, window=60.0):
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle clients
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True

    def reset(self):
        with self._lock:
            self._hits.clear()


THROTTLE = _Throttle()
