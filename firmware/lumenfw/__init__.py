"""lumenrig firmware: board layer, drivers and the device around them."""
