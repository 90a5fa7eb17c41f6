require "include";
include "loop";
