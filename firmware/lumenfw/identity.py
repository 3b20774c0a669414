"""Who this firmware is: version and the fixed parts of HELLO_ACK."""

FW_VERSION = (0, 1, 0)


class Identity:
    """HELLO_ACK's fixed fields for one board."""

    def __init__(self, board_id, reset_cause, capabilities, channel_can):
        self.fw_version = FW_VERSION
        self.board_id = board_id
        self.reset_cause = reset_cause
        self.capabilities = capabilities
        self.channel_can = channel_can  # CAN_* of each channel, channel n at index n
