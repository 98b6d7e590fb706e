// The one place the Swift layer touches the OS directly (threads, sleeping, the stop flag).
// Invariants: nothing here is called per tick on the decision path; sleeping is only used by idle
// loops; threads are joined before the objects they use are released.
import CKairos
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A flag one thread sets to ask loops on other threads to stop.
/// `Atomic` makes it safe to share; relaxed ordering suffices because the flag guards no data:
/// loops that see it drain their rings, whose own acquire/release orderings cover the records.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .relaxed) }
    public func set() { flag.store(true, ordering: .relaxed) }
}

/// Sleeps at least `us` microseconds, resuming after signals (nanosleep's EINTR) until done.
public func sleepMicroseconds(_ us: Int) {
    var req = timespec(tv_sec: us / 1_000_000, tv_nsec: (us % 1_000_000) * 1_000)
    var rem = timespec()
    while nanosleep(&req, &rem) == -1 && errno == EINTR { req = rem }
}

/// A named OS thread that can be joined. Used for the engine and market threads, which must be
/// real threads (not tasks on the cooperative pool) because they spin.
///
/// `@unchecked Sendable`: `Thread` is not marked Sendable, but this wrapper only calls `start()`
/// (once, from the owner) and waits on a semaphore, both of which are thread-safe.
public final class WorkerThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let thread: Thread

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        thread = Thread {
            // Kairos's worker threads poll and sleep in microseconds; the default 50 µs timer slack
            // would make each short sleep ~70 µs of latency (kairos_sys.h).
            _ = kairos_sys_set_timer_slack_ns(1_000)
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
    }

    public func start() { thread.start() }
    /// Blocks until the body has returned.
    public func join() { done.wait() }
}
