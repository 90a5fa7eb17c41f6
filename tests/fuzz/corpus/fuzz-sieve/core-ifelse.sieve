require "fileinto";
if header :is "subject" "nope" {
  fileinto "one";
} elsif header :contains "subject" "STATUS" {
  fileinto "two";
} else {
  fileinto "three";
}
