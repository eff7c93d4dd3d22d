print("srlm")
