require "ereject";
ereject text:
No thanks.
..dot-stuffed line
.
;
