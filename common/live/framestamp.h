#pragma once

#include <QtGlobal>

#include <opencv2/core/mat.hpp>

#include <optional>

namespace edgelens {

// A frame that carries its own capture time: a strip of black and white blocks along the top
// edge encoding wall-clock milliseconds (since the Unix epoch), drawn by whoever makes the
// frame and read back after encoding, streaming and decoding. The live tests and the latency
// bench stamp their generated streams this way (tests/support/streams/livestream.py draws the
// same layout), so capture-to-screen latency is measured from the moment a frame was made,
// not from when it arrived here.
//
// Layout: square blocks of width / 64 pixels (at least 4) from the top-left corner: a marker
// (white, black), the 48 bits of the milliseconds, most significant first, then 8 bits that
// are the XOR of those 6 bytes; white is 1. A frame without a stamp (a real camera) reads as
// nullopt: the marker, the checksum or the contrast of the blocks does not hold.
class FrameStamp final
{
public:
    FrameStamp() = delete;

    static constexpr int kBlocks = 64; // the strip's width in blocks (58 are used)
    static int blockSize(int frameWidth);

    // Draws the stamp into an 8-bit BGR (or grey) frame at least 256 pixels wide; false when
    // the frame is too small or not 8-bit.
    static bool write(cv::Mat &frame, qint64 millisSinceEpoch);
    // The milliseconds a stamped frame carries; nullopt when it carries none.
    static std::optional<qint64> read(const cv::Mat &frame);
};

} // namespace edgelens
