/// A sample's value, kept in the form that can be written exactly.
///
/// Integers are written as integers (never through `Double`, so a `UInt64` counter above 2^53 is
/// exact), and ``scaled(_:decimals:)`` writes a fixed-point decimal: nanoseconds as seconds are
/// `.scaled(ns, decimals: 9)`, written `1234.5678` with no rounding at all.
public enum SampleValue: Sendable, Equatable {
    case uint(UInt64)
    case int(Int64)
    /// `value / 10^decimals`, written exactly (trailing zeros of the fraction dropped).
    case scaled(UInt64, decimals: UInt8)
    /// Written as an integer when integral and below 2^63 in magnitude, else in Swift's shortest
    /// round-trip form; `+Inf`, `-Inf` and `NaN` exactly so.
    case double(Double)

    /// Nanoseconds as seconds, exact.
    public static func seconds(nanoseconds: UInt64) -> SampleValue { .scaled(nanoseconds, decimals: 9) }
    /// Microseconds as seconds, exact.
    public static func seconds(microseconds: UInt64) -> SampleValue { .scaled(microseconds, decimals: 6) }
    /// 1 for true, 0 for false.
    public static func bool(_ value: Bool) -> SampleValue { .uint(value ? 1 : 0) }

    /// The value as a Double (for tests and comparisons; may round).
    public var doubleValue: Double {
        switch self {
        case .uint(let v): Double(v)
        case .int(let v): Double(v)
        case .scaled(let v, let d): Double(v) / pow10(d)
        case .double(let v): v
        }
    }

    private func pow10(_ d: UInt8) -> Double {
        var r = 1.0
        for _ in 0..<d { r *= 10 }
        return r
    }
}

/// Writers of numbers into exposition bytes without allocating.
enum NumberWriter {
    static func write(_ value: SampleValue, to out: inout [UInt8]) {
        switch value {
        case .uint(let v): write(v, to: &out)
        case .int(let v):
            if v < 0 { out.append(UInt8(ascii: "-")) }
            write(v.magnitude, to: &out)
        case .scaled(let v, let decimals): writeScaled(v, decimals: Int(decimals), to: &out)
        case .double(let v): write(v, to: &out)
        }
    }

    /// The most bytes ``write(_:at:)`` or ``writeScaled(_:decimals:at:)`` write, sign included.
    static let maxLength = 24

    /// Decimal digits of `v` at `p`; returns their count. Written from the last digit back, four
    /// digits per division (the count is known first: ``digitCount(_:)``).
    @inline(__always)
    static func write(_ v: UInt64, at p: UnsafeMutablePointer<UInt8>) -> Int {
        if v < 10 { p[0] = 0x30 &+ UInt8(truncatingIfNeeded: v); return 1 }
        let digits = digitCount(v)
        let pairs = digitPairs.utf8Start
        var i = digits
        var t = v
        // Four digits per 64-bit division, split in two pairs with 32-bit arithmetic.
        while t >= 10_000 {
            let four = UInt32(truncatingIfNeeded: t % 10_000)
            t /= 10_000
            let high = Int(four / 100) &* 2, low = Int(four % 100) &* 2
            i &-= 4
            p[i] = pairs[high]
            p[i &+ 1] = pairs[high &+ 1]
            p[i &+ 2] = pairs[low]
            p[i &+ 3] = pairs[low &+ 1]
        }
        if t >= 100 {
            let r = Int(truncatingIfNeeded: t % 100) &* 2
            t /= 100
            i &-= 2
            p[i] = pairs[r]
            p[i &+ 1] = pairs[r &+ 1]
        }
        if t >= 10 {
            let r = Int(truncatingIfNeeded: t) &* 2
            p[0] = pairs[r]
            p[1] = pairs[r &+ 1]
        } else {
            p[0] = 0x30 &+ UInt8(truncatingIfNeeded: t)
        }
        return digits
    }

    /// The number of decimal digits of `v` (above 0): ⌊bits × 1233 / 4096⌋ (1233 / 4096 is just
    /// under log10 2) is the count or one less, and one comparison with a power of ten tells which.
    @inline(__always)
    static func digitCount(_ v: UInt64) -> Int {
        let estimate = ((64 &- v.leadingZeroBitCount) &* 1233) >> 12
        return v >= powersOfTen[estimate] ? estimate &+ 1 : estimate
    }

    /// 10^0 ... 10^19 (the most a UInt64 holds).
    private static let powersOfTen: [UInt64] = [
        1, 10, 100, 1000, 10000,
        100000, 1000000, 10000000, 100000000, 1000000000,
        10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
        1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000, 10000000000000000000,
    ]

    /// "00", "01", ... "99", one after another.
    private static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// ``writeScaled(_:decimals:to:)`` at `p`; returns the bytes written.
    static func writeScaled(_ v: UInt64, decimals: Int, at p: UnsafeMutablePointer<UInt8>) -> Int {
        if decimals == 0 { return write(v, at: p) }
        var divisor: UInt64 = 1
        if decimals < powersOfTen.count {
            divisor = powersOfTen[decimals]
        } else {
            for _ in 0..<decimals { divisor &*= 10 }
        }
        var frac = v % divisor
        var n = write(v / divisor, at: p)
        if frac == 0 { return n }
        var width = decimals
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        p[n] = UInt8(ascii: "."); n += 1
        // `width` digits, leading zeros included, two at a time from the last.
        let pairs = digitPairs.utf8Start
        var i = n + width
        while i - n >= 2 {
            let r = Int(truncatingIfNeeded: frac % 100) &* 2
            frac /= 100
            i &-= 2
            p[i] = pairs[r]
            p[i &+ 1] = pairs[r &+ 1]
        }
        if i > n { p[n] = 0x30 &+ UInt8(truncatingIfNeeded: frac) }
        return n + width
    }

    /// Decimal digits of `v`.
    static func write(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 { out.append(0x30 &+ UInt8(truncatingIfNeeded: v)); return }
        var digits = 0
        var t = v
        while t > 0 { digits += 1; t /= 10 }
        let start = out.count
        for _ in 0..<digits { out.append(0x30) }
        var i = start + digits - 1
        t = v
        while t > 0 {
            out[i] = 0x30 &+ UInt8(truncatingIfNeeded: t % 10)
            t /= 10
            i -= 1
        }
    }

    static func writeScaled(_ v: UInt64, decimals: Int, to out: inout [UInt8]) {
        if decimals == 0 { write(v, to: &out); return }
        var divisor: UInt64 = 1
        for _ in 0..<decimals { divisor &*= 10 }
        let whole = v / divisor
        var frac = v % divisor
        write(whole, to: &out)
        if frac == 0 { return }
        var width = decimals
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        out.append(UInt8(ascii: "."))
        let start = out.count
        for _ in 0..<width { out.append(0x30) }
        var i = start + width - 1
        while frac > 0 {
            out[i] = 0x30 &+ UInt8(truncatingIfNeeded: frac % 10)
            frac /= 10
            i -= 1
        }
    }

    /// ``write(_:to:)`` of a Double at `p`; returns the bytes written (at most ``maxLength``: the
    /// longest shortest form, such as `-2.2250738585072014e-308`, has 24).
    static func write(_ v: Double, at p: UnsafeMutablePointer<UInt8>) -> Int {
        if v == v.rounded(), v.magnitude < 9.2e18 {
            let i = Int64(v)
            if i < 0 {
                p[0] = UInt8(ascii: "-")
                return 1 + write(i.magnitude, at: p + 1)
            }
            return write(i.magnitude, at: p)
        }
        var text = v.isNaN ? "NaN" : v.isInfinite ? (v < 0 ? "-Inf" : "+Inf") : v.description
        return text.withUTF8 { utf8 in
            precondition(utf8.count <= maxLength, "a Double written in \(utf8.count) bytes")
            p.update(from: utf8.baseAddress!, count: utf8.count)
            return utf8.count
        }
    }

    static func write(_ v: Double, to out: inout [UInt8]) {
        if v.isNaN { out.append(contentsOf: "NaN".utf8); return }
        if v.isInfinite { out.append(contentsOf: (v < 0 ? "-Inf" : "+Inf").utf8); return }
        if v == v.rounded(), v.magnitude < 9.2e18 {
            let i = Int64(v)
            if i < 0 { out.append(UInt8(ascii: "-")) }
            write(i.magnitude, to: &out)
            return
        }
        // Shortest round-trip form; fits a small (inline, not heap) string for most values.
        out.append(contentsOf: v.description.utf8)
    }
}
