"Import-path mirrors of spikingjelly and snntorch: switching them to snnlit is an import change."
