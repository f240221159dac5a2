#pragma once

#include "detector/decoder.h"

namespace edgelens {

// YOLOX head: x, y, log w, log h, objectness, classes per anchor-free cell.
// ChannelMajorBlocks is the bubbliiiing export: the [1, 8400, 85] output really holds one
// [85, cells] block per stride, end to end, scores as logits. Rows is the official
// export_onnx.py's [1, N, 85], whose objectness and classes are probabilities already.
class YoloxDecoder final : public Decoder
{
public:
    enum class Layout { ChannelMajorBlocks, Rows };

    YoloxDecoder(cv::Size input, int numClasses, Layout layout = Layout::ChannelMajorBlocks,
                 std::vector<int> strides = {8, 16, 32}, Scores scores = Scores::Logits);

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    cv::Size m_input;
    int m_numClasses;
    Layout m_layout;
    std::vector<int> m_strides;
    Scores m_scores;
};

} // namespace edgelens
