"""The replies to the last 16 command ids of a session, so a retried command runs once."""

REPLY_CACHE_SIZE = 16


class ReplyCache:
    """cmd_id -> (msg_id, body) of the reply sent, for the most recent 16 cmd_ids."""

    def __init__(self, size=REPLY_CACHE_SIZE):
        self.size = size
        self._replies = {}
        self._order = []

    def clear(self):
        """A new session: earlier cmd_ids mean nothing any more."""
        self._replies = {}
        self._order = []

    def get(self, cmd_id):
        """The cached (msg_id, body) for cmd_id, or None."""
        return self._replies.get(cmd_id)

    def put(self, cmd_id, msg_id, body):
        if cmd_id not in self._replies:
            self._order.append(cmd_id)
            if len(self._order) > self.size:
                del self._replies[self._order.pop(0)]
        self._replies[cmd_id] = (msg_id, body)

    def __len__(self):
        return len(self._order)
