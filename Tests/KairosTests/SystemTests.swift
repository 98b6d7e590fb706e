// The OS boundary (KairosCore/System/System.swift): the one errno-carrying error and the one
// retrying syscall helper, and sleepMicroseconds, which is built on it.
import Foundation
import Synchronization
import Testing
@testable import KairosCore
#if canImport(Glibc)
import Glibc
#endif

/// SIGUSR1s the handler below has seen (a signal handler can reach globals only).
private let signalsSeen = Atomic<Int>(0)

@Suite struct SystemTests {
    @Test func aFailingCallThrowsItsErrnoAndOperation() {
        let error = #expect(throws: SystemError.self) { try syscall("close fd -1") { close(-1) } }
        #expect(error == SystemError("close fd -1", errno: EBADF))
        #expect(error?.description == "close fd -1: \(String(cString: strerror(EBADF))) (errno \(EBADF))")
    }

    @Test func aSucceedingCallReturnsItsResult() throws {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe") { pipe(&fds) }
        defer { close(fds[0]); close(fds[1]) }
        #expect(try syscall("write pipe") { write(fds[1], "abc", 3) } == 3)
        var buf = [UInt8](repeating: 0, count: 8)
        #expect(try syscall("read pipe") { read(fds[0], &buf, 8) } == 3)
        #expect(Array(buf.prefix(3)) == [UInt8]("abc".utf8))
    }

    /// EINTR (a signal before the call did anything) is retried; the first other errno is thrown.
    /// The body stands in for a call interrupted twice by setting errno as the kernel would.
    @Test func interruptedCallsAreRetried() throws {
        var calls = 0
        let n = try syscall("interrupted twice") { () -> Int in
            calls += 1
            if calls <= 2 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(n == 42 && calls == 3)
        calls = 0
        let error = #expect(throws: SystemError.self) {
            try syscall("interrupted, then refused") { () -> Int32 in
                calls += 1
                errno = calls == 1 ? EINTR : EAGAIN
                return -1
            }
        }
        #expect(error?.errno == EAGAIN && calls == 2)
    }

    /// Signals land on the sleeping thread mid-sleep (each one ends nanosleep with EINTR); the sleep
    /// still lasts the whole duration. The sleeper is a thread of its own that unblocks SIGUSR1
    /// (threads made from the cooperative pool inherit a mask that blocks it) and stays alive until
    /// the test thread has sent its last signal, so no signal reaches any other thread.
    @Test func sleepLastsItsWholeDurationThroughSignals() {
        signalsSeen.store(0, ordering: .relaxed)
        let previous = signal(SIGUSR1) { _ in signalsSeen.add(1, ordering: .relaxed) }
        defer { signal(SIGUSR1, previous) }
        let shared = SleeperState()
        let sleeper = WorkerThread(name: "kairos-test-sleeper") {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR1)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            shared.thread.withLock { $0 = pthread_self() }
            let start = MonotonicClock.nanoseconds()
            sleepMicroseconds(200_000)
            let elapsed = MonotonicClock.nanoseconds() - start
            let seen = signalsSeen.load(ordering: .relaxed)
            shared.result.withLock { $0 = (elapsed, seen) }
            while !shared.doneSignalling.isSet { sleepMicroseconds(1_000) }
        }
        sleeper.start()
        var target: pthread_t?
        while target == nil {
            target = shared.thread.withLock { $0 }
            if target == nil { sleepMicroseconds(500) }
        }
        sleepMicroseconds(5_000)
        for _ in 0..<5 {
            pthread_kill(target!, SIGUSR1)
            sleepMicroseconds(2_000)
        }
        shared.doneSignalling.set()
        sleeper.join()
        let (elapsed, seenDuringSleep) = shared.result.withLock { $0 }
        #expect(seenDuringSleep > 0, "no signal arrived during the sleep")
        #expect(elapsed >= 200_000_000)
    }
}

/// What the sleeper thread shares with the test thread (each field behind a lock, or a StopFlag).
private final class SleeperState: Sendable {
    let thread = Mutex<pthread_t?>(nil)
    let result = Mutex<(elapsed: Int64, signals: Int)>((0, 0))
    /// Set once the test thread has sent its last signal: the sleeper may end.
    let doneSignalling = StopFlag()
}
