import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import Foundation

/// Runs `handler` (on a global queue) when any of `signals` arrives, instead of the default action.
/// The CLI's one way to turn SIGINT/SIGTERM into a graceful stop (and SIGUSR1 into the kill switch).
struct SignalHandlers {
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32], handler: @escaping @Sendable () -> Void) {
        sources = signals.map { sig in
            signal(sig, SIG_IGN)  // the dispatch source receives it; the default action must not run
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
