import Foundation
import Testing

@testable import ConnectorPackaging

@Suite("SHA-256")
struct SHA256Tests {
    @Test("the FIPS 180-4 examples hash to their published digests")
    func fipsVectors() {
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hexDigest(
                Array(
                    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)
            )
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(
            SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("feeding a message in pieces split at every offset gives the digest of the whole")
    func piecewise() {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let whole = SHA256.hexDigest(message)
        for split in 0...message.count {
            var hasher = SHA256()
            hasher.update(Array(message[..<split]))
            hasher.update(Array(message[split...]))
            #expect(SHA256.hex(hasher.finalize()) == whole, "split at \(split)")
        }
        var byteAtATime = SHA256()
        for byte in message { byteAtATime.update([byte]) }
        #expect(SHA256.hex(byteAtATime.finalize()) == whole)
    }

    @Test("files of sizes around the 64-byte block and padding boundaries hash as sha256sum says")
    func agreesWithSha256sum() throws {
        guard available("sha256sum") else {
            print("skipped: sha256sum is not installed")
            return
        }
        let folder = try TemporaryFolder()
        for size in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 65_537, 3 << 20] {
            let bytes = pseudoRandomBytes(size, seed: UInt64(size) + 1)
            let path = try folder.write("file-\(size)", bytes: bytes)
            let expected = try #require(runProgram(["sha256sum", path])).stdout.split(separator: " ").first.map(String.init)
            #expect(try SHA256.hexDigest(ofFile: path) == expected, "size \(size)")
            #expect(SHA256.hexDigest(bytes) == expected, "size \(size)")
        }
    }
}
