"""Register-level models of the rig's I2C chips, fed by the bench's physics."""
