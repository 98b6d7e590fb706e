/// A configuration, model file or input that cannot be used, with the reason in words.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "configuration: \(message)" }
}
