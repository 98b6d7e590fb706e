// The one place the Swift layer touches the OS directly (threads, sleeping, the stop flag), and the
// one way it reports the OS refusing: `SystemError`, raised through `syscall` (swift-nio's
// NIOPosix/System.swift pattern: one retrying helper, one errno-carrying error).
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

/// A system call, or a C-core call with errno semantics, that failed: the one error type of the
/// Swift layer for "the OS (or libzmq) said no", whatever the call. Errors that mean something in
/// the domain (a malformed file, a bad key, a Redis status code) keep their own types.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What failed, naming the call's purpose and object, e.g. "bind tcp://127.0.0.1:5556".
    public var operation: String
    /// The positive errno value.
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// `operation: message (errno N)`; the message also covers libzmq's own codes (ETERM, EFSM...).
    public var description: String {
        "\(operation): \(String(cString: kairos_sys_strerror(errno))) (errno \(errno))"
    }
}

/// Runs `body`, one system call (or C call) that reports failure as -1 with `errno` set, again
/// each time it fails with EINTR (a signal arrived before it completed), and returns its result;
/// any other failure is thrown as `SystemError(operation, errno:)`. A call that can be
/// interrupted part-way (a short `write`, `nanosleep`) must make each retry resume from where it
/// stopped: `body` is run as is every time.
@discardableResult
public func syscall<T: FixedWidthInteger & SignedInteger>(
    _ operation: @autoclosure () -> String, _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let err = errno
        if err != EINTR { throw SystemError(operation(), errno: err) }
    }
}

/// Sleeps at least `us` microseconds, resuming after signals (nanosleep's EINTR) until done.
public func sleepMicroseconds(_ us: Int) {
    var req = timespec(tv_sec: us / 1_000_000, tv_nsec: (us % 1_000_000) * 1_000)
    var rem = timespec()
    // An interrupted nanosleep leaves the time still to sleep in `rem`: each retry sleeps that.
    // The only other failure is EINVAL for a negative duration, where there is nothing to sleep.
    _ = try? syscall("nanosleep") { () -> Int32 in
        let rc = nanosleep(&req, &rem)
        if rc == -1 { req = rem }
        return rc
    }
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
