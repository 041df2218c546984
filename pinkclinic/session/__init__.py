"""The run machinery doctor, flame and heap share: launch or attach, collect, load, stop."""
