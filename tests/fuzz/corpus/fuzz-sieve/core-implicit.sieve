# nothing: implicit keep
if false { discard; }
