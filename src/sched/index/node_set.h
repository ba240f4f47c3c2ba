#pragma once
// NodeSet: the nodes of one segment with some property (say, exactly 5 whole free devices), as a
// bitset over the segment's node positions. Insert and erase are O(1) with no allocation;
// iteration yields node ids in increasing position order (= increasing node id, since a
// segment's nodes are listed in id order), skipping empty words: O(positions / 64 + size).
// It replaces a std::set<uint32_t>, whose tree updates dominated what-if releases.

#include <bit>
#include <cstdint>
#include <vector>

#include "core/pool.h"

namespace suanpan::sched {

class NodeSet {
 public:
  NodeSet() = default;
  NodeSet(const std::vector<core::NodeId>* ids) : ids_(ids), words_((ids->size() + 63) / 64, 0) {}

  void Insert(uint32_t position) {
    uint64_t& w = words_[position / 64];
    const uint64_t bit = uint64_t{1} << (position % 64);
    size_ += (w & bit) == 0;
    w |= bit;
  }
  void Erase(uint32_t position) {
    uint64_t& w = words_[position / 64];
    const uint64_t bit = uint64_t{1} << (position % 64);
    size_ -= (w & bit) != 0;
    w &= ~bit;
  }
  bool ContainsPosition(uint32_t position) const {
    return (words_[position / 64] >> (position % 64)) & 1;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  class Iterator {
   public:
    Iterator(const NodeSet* set, size_t word) : set_(set), word_(word) { Load(); }
    uint32_t operator*() const {
      return (*set_->ids_)[word_ * 64 + std::countr_zero(bits_)].value();
    }
    Iterator& operator++() {
      bits_ &= bits_ - 1;
      if (bits_ == 0) {
        ++word_;
        Load();
      }
      return *this;
    }
    bool operator!=(const Iterator& o) const { return word_ != o.word_ || bits_ != o.bits_; }

   private:
    void Load() {
      while (word_ < set_->words_.size() && set_->words_[word_] == 0) ++word_;
      bits_ = word_ < set_->words_.size() ? set_->words_[word_] : 0;
    }
    const NodeSet* set_;
    size_t word_;
    uint64_t bits_ = 0;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, words_.size()); }

 private:
  const std::vector<core::NodeId>* ids_ = nullptr;
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

}  // namespace suanpan::sched
