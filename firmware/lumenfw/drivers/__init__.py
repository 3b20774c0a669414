"""Register-level drivers, one module per chip; each takes an I2C object and an address."""
