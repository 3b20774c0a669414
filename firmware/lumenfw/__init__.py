"""lumenrig firmware: board layer, drivers and the rig controller."""
