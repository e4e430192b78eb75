// The `warden` executable: everything is in the warden_cli library.
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) { return warden::cli::Run(argc, argv, std::cout, std::cerr); }
