"""Register-level models of the rig's I2C chips, fed by the bench's physics."""

# The chips a simulated board has, by the name the fault grammar gives them (missing=,
# stuck=), each at its board_config address (hil_sim.board.chip_addresses).
CHIP_NAMES = ("ina226", "mcp4725", "ads1115", "sht31")
# Those each channel card carries (a fault names its card: missing=ina226@2); the SHT31 is
# the rig's.
CARD_CHIP_NAMES = ("ina226", "mcp4725", "ads1115")
