require "vacation";
vacation :handle "h1" :from "Ann <ann@example.com>" text:
Back soon.
.
;
