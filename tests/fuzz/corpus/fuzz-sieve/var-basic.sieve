require ["variables", "fileinto"];
set "folder" "Lists";
set "sub" "${folder}/sub";
fileinto "${sub}";
