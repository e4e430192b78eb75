// Chain verification as a two-stage pipeline, so that reading rows and
// hashing them use two cores: the reading thread checks order and links and
// copies rows into chunks; a hashing thread re-encodes and hashes each row
// and compares with the stored hash. Findings are ordered by row position, so
// the report names the first broken event whichever stage saw it.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/internal/chain_hash.h"
#include "warden/audit/audit_log.h"

namespace warden::audit {

namespace {

using internal::Digest;
using internal::Sha256;

constexpr size_t kChunkRows = 2048;
constexpr size_t kMaxQueuedChunks = 4;

// Text columns in the order of the SELECT after seq and time.
enum Field { kActor, kKind, kSubject, kDetails, kPrevHash, kHash, kFieldCount };

struct RowRef {
  int64_t seq;
  int64_t time;
  size_t off[kFieldCount];
  size_t len[kFieldCount];
};

struct Chunk {
  int64_t first_index = 0;  // position of rows[0] in the scan
  std::vector<RowRef> rows;
  std::string data;

  std::string_view Get(const RowRef& r, Field f) const {
    return std::string_view(data).substr(r.off[f], r.len[f]);
  }
};

// The first problem one stage saw: its row position, the seq to report.
struct Finding {
  int64_t index = -1;
  int64_t seq = 0;
  std::string problem;
  bool found() const { return index >= 0; }
};

class HashStage {
 public:
  explicit HashStage(Sha256 sha) : sha_(std::move(sha)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~HashStage() { Finish(); }
  HashStage(const HashStage&) = delete;
  HashStage& operator=(const HashStage&) = delete;

  // An empty chunk, reused when one is free.
  std::unique_ptr<Chunk> TakeEmpty() {
    std::lock_guard lock(mu_);
    if (free_.empty()) {
      auto c = std::make_unique<Chunk>();
      c->rows.reserve(kChunkRows);
      return c;
    }
    auto c = std::move(free_.back());
    free_.pop_back();
    return c;
  }

  // Hands a filled chunk over; waits while the hashing thread is behind.
  void Push(std::unique_ptr<Chunk> chunk) {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return queue_.size() < kMaxQueuedChunks; });
    queue_.push_back(std::move(chunk));
    work_cv_.notify_one();
  }

  // Waits until every pushed chunk is hashed. Idempotent.
  void Finish() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    work_cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // Whether a mismatch or an error was seen (the reader may stop early).
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Valid after Finish().
  const Finding& finding() const { return finding_; }
  const Status& error() const { return error_; }

 private:
  void Run() {
    for (;;) {
      std::unique_ptr<Chunk> chunk;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
        space_cv_.notify_one();
      }
      if (!failed()) Check(*chunk);
      chunk->rows.clear();
      chunk->data.clear();
      std::lock_guard lock(mu_);
      free_.push_back(std::move(chunk));
    }
  }

  void Check(const Chunk& chunk) {
    for (size_t i = 0; i < chunk.rows.size(); ++i) {
      const RowRef& r = chunk.rows[i];
      buf_.clear();
      internal::AppendEncoding(buf_, r.seq, r.time, chunk.Get(r, kActor), chunk.Get(r, kKind),
                               chunk.Get(r, kSubject), chunk.Get(r, kDetails),
                               chunk.Get(r, kPrevHash));
      Digest d;
      Status s = sha_.Hash(buf_, d);
      if (!s.ok()) {
        error_ = s;
        failed_.store(true, std::memory_order_release);
        return;
      }
      char hex[64];
      internal::DigestHex(d, hex);
      if (chunk.Get(r, kHash) != std::string_view(hex, sizeof(hex))) {
        finding_.index = chunk.first_index + static_cast<int64_t>(i);
        finding_.seq = r.seq;
        finding_.problem = "event " + std::to_string(r.seq) +
                           " was edited: its content does not match its stored hash";
        failed_.store(true, std::memory_order_release);
        return;
      }
    }
  }

  Sha256 sha_;
  std::string buf_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
  std::deque<std::unique_ptr<Chunk>> queue_;
  std::vector<std::unique_ptr<Chunk>> free_;
  bool closed_ = false;
  std::atomic<bool> failed_{false};
  Finding finding_;
  Status error_;
  std::thread thread_;
};

// The reading stage: order, links and the head; feeds the hashing stage.
class ReadStage {
 public:
  explicit ReadStage(HashStage& hasher) : hasher_(hasher), chunk_(hasher.TakeEmpty()) {}

  // OK to continue; Aborted to stop the scan.
  Status Row(const store::RowView& row) {
    if (hasher_.failed()) return Aborted("stopped: an earlier event failed its hash");
    const int64_t expected = last_seq_ + 1;
    auto seq = row.Int(0);
    if (!seq.ok()) {
      return Broken(expected, "the event after seq " + std::to_string(last_seq_) +
                                  " has a malformed seq: " + seq.status().message());
    }
    const int64_t s = *seq;
    if (s != expected) {
      if (s < expected) {
        return Broken(s, "event " + std::to_string(s) +
                             " has a seq below 1: forged row inserted before the start");
      }
      if (expected == 1) {
        return Broken(1, "the log starts at seq " + std::to_string(s) + " instead of 1: events 1.." +
                             std::to_string(s - 1) + " were deleted");
      }
      return Broken(expected, "event " + std::to_string(expected) + " is missing (deleted): seq " +
                                  std::to_string(s) + " follows " + std::to_string(last_seq_));
    }
    auto time = row.Int(1);
    if (!time.ok()) {
      return Broken(s, "event " + std::to_string(s) + " has a malformed time: " +
                           time.status().message());
    }
    std::string_view text[kFieldCount];
    for (size_t f = 0; f < kFieldCount; ++f) {
      auto t = row.Text(f + 2);
      if (!t.ok()) {
        return Broken(s, "event " + std::to_string(s) + " has a malformed column: " +
                             t.status().message());
      }
      text[f] = *t;
    }
    if (text[kPrevHash] != last_hash_) {
      return Broken(s, "event " + std::to_string(s) + " does not link to event " +
                           std::to_string(last_seq_) +
                           ": its prev_hash differs from the hash before it (events reordered, "
                           "inserted or replaced)");
    }
    RowRef& r = chunk_->rows.emplace_back();
    r.seq = s;
    r.time = *time;
    for (size_t f = 0; f < kFieldCount; ++f) {
      r.off[f] = chunk_->data.size();
      r.len[f] = text[f].size();
      chunk_->data.append(text[f]);
    }
    last_seq_ = s;
    last_hash_.assign(text[kHash]);
    ++index_;
    if (chunk_->rows.size() == kChunkRows) Flush();
    return OkStatus();
  }

  // Hands the partly filled chunk to the hashing stage.
  void Flush() {
    if (chunk_ == nullptr || chunk_->rows.empty()) return;
    const int64_t next_index = index_;
    hasher_.Push(std::move(chunk_));
    chunk_ = hasher_.TakeEmpty();
    chunk_->first_index = next_index;
  }

  // Compares audit_head with the last event read.
  void Head(const store::Rows& head) {
    const int64_t next = last_seq_ + 1;
    if (head.empty() || head.rows[0].size() != 2) {
      Mark(next, "the audit_head row is missing");
      return;
    }
    auto seq = store::AsInt(head.rows[0][0]);
    auto hash = store::AsText(head.rows[0][1]);
    if (!seq.ok() || !hash.ok()) {
      Mark(next, "the audit_head row is malformed");
    } else if (*seq > last_seq_) {
      Mark(next, "audit_head records " + std::to_string(*seq) + " events but the log ends at " +
                     std::to_string(last_seq_) + ": events " + std::to_string(next) + ".." +
                     std::to_string(*seq) + " were deleted");
    } else if (*seq < last_seq_) {
      Mark(*seq + 1, "event " + std::to_string(*seq + 1) + " is past audit_head (seq " +
                         std::to_string(*seq) + "): rows were appended outside Warden");
    } else if (*hash != last_hash_) {
      Mark(last_seq_, "audit_head hash does not match event " + std::to_string(last_seq_) +
                          " (the last event or the head was replaced)");
    }
  }

  const Finding& finding() const { return finding_; }
  int64_t rows_read() const { return index_; }

 private:
  void Mark(int64_t seq, std::string problem) {
    finding_.index = index_;
    finding_.seq = seq;
    finding_.problem = std::move(problem);
  }
  Status Broken(int64_t seq, std::string problem) {
    Mark(seq, std::move(problem));
    return Aborted("chain broken");
  }

  HashStage& hasher_;
  std::unique_ptr<Chunk> chunk_;
  int64_t index_ = 0;
  int64_t last_seq_ = 0;
  std::string last_hash_{kGenesisHash};
  Finding finding_;
};

}  // namespace

Result<VerifyReport> Verify(store::Store& store) {
  WARDEN_ASSIGN_OR_RETURN(Sha256 sha, Sha256::Create());
  HashStage hasher(std::move(sha));
  ReadStage reader(hasher);
  Status s = store.Read([&](store::Transaction& txn) -> Status {
    Status scan = txn.QueryEach(
        "SELECT seq, time, actor, kind, subject, details, prev_hash, hash FROM audit_events "
        "ORDER BY seq",
        {}, [&](const store::RowView& row) { return reader.Row(row); });
    reader.Flush();
    hasher.Finish();
    if (reader.finding().found() || hasher.failed()) return OkStatus();
    WARDEN_RETURN_IF_ERROR(scan);
    WARDEN_ASSIGN_OR_RETURN(store::Rows head,
                            txn.Query("SELECT seq, hash FROM audit_head WHERE id = 1", {}));
    reader.Head(head);
    return OkStatus();
  });
  hasher.Finish();
  WARDEN_RETURN_IF_ERROR(s);
  WARDEN_RETURN_IF_ERROR(hasher.error());

  // The earlier row wins; at the same row the reader's finding (a broken
  // link) explains more than the hash mismatch it causes.
  const Finding& r = reader.finding();
  const Finding& h = hasher.finding();
  const Finding* first = nullptr;
  if (h.found() && (!r.found() || h.index < r.index)) {
    first = &h;
  } else if (r.found()) {
    first = &r;
  }
  VerifyReport report;
  if (first == nullptr) {
    report.events_checked = reader.rows_read();
    return report;
  }
  report.ok = false;
  report.events_checked = first->index;
  report.first_bad_seq = first->seq;
  report.problem = first->problem;
  return report;
}

}  // namespace warden::audit
