#pragma once

#include "detector/decoder.h"

namespace edgelens {

// YOLOX head, raw logits: x, y, log w, log h, objectness, classes per anchor-free cell.
// ChannelMajorBlocks is the bubbliiiing export: the [1, 8400, 85] output really holds one
// [85, cells] block per stride, end to end. Rows is the official export's [1, N, 85].
class YoloxDecoder final : public Decoder
{
public:
    enum class Layout { ChannelMajorBlocks, Rows };

    YoloxDecoder(cv::Size input, int numClasses, Layout layout = Layout::ChannelMajorBlocks,
                 std::vector<int> strides = {8, 16, 32});

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    cv::Size m_input;
    int m_numClasses;
    Layout m_layout;
    std::vector<int> m_strides;
};

} // namespace edgelens
