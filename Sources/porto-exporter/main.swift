print("porto-exporter")
