"""The replies to the last 16 command ids of a session, so a retried command runs once."""

REPLY_CACHE_SIZE = 16


class ReplyCache:
    """cmd_id -> (command msg_id, reply msg_id, reply body) for the most recent 16 cmd_ids.

    A retry repeats both the cmd_id and the command; the same cmd_id on another command is
    a new command (an id reused after the host restarted), not a retry.
    """

    def __init__(self, size=REPLY_CACHE_SIZE):
        self.size = size
        self._replies = {}
        self._order = []

    def clear(self):
        """A new session: earlier cmd_ids mean nothing any more."""
        self._replies = {}
        self._order = []

    def get(self, cmd_id, command_msg_id):
        """The cached (reply msg_id, body) of this command with this cmd_id, or None."""
        entry = self._replies.get(cmd_id)
        if entry is None or entry[0] != command_msg_id:
            return None
        return entry[1], entry[2]

    def put(self, cmd_id, command_msg_id, msg_id, body):
        if cmd_id not in self._replies:
            self._order.append(cmd_id)
            if len(self._order) > self.size:
                del self._replies[self._order.pop(0)]
        self._replies[cmd_id] = (command_msg_id, msg_id, body)

    def __len__(self):
        return len(self._order)
