import ConnectorHost

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The executable is only an entry point; everything lives in the ConnectorHost library.
exit(CommandLineInterface.main(Array(CommandLine.arguments.dropFirst())))
