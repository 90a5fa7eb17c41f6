redirect "other@example.net";
redirect "other@EXAMPLE.NET";
redirect "OTHER@example.net";
keep;
