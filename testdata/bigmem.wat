(module (memory 3))
