"""Analysis of rig data: photodiode to luminance, lifetime, photostability and J-V-L metrics."""
