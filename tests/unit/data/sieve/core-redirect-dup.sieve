redirect "other@example.net";
redirect "OTHER@example.net";
keep;
