"""Hardware-in-the-loop simulator: simulated chips, device physics, pty launcher."""
