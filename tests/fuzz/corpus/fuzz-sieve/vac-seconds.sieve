require ["vacation-seconds"];
vacation :seconds 172800 :mime text:
Content-Type: text/plain; charset=utf-8

Away.
.
;
