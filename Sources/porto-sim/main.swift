print("porto-sim")
