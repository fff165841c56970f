import ConnectorHostCLI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The executable is only an entry point: the command line is the ConnectorHostCLI module, the host
// itself the ConnectorHost library (which prints nothing and installs no signal handlers of its own).
exit(CommandLineInterface.main(Array(CommandLine.arguments.dropFirst())))
